# IMS311 (good): a CI group that only looks images up (a data source): every call it makes is
# confirmed, so everything it needs is checked.

data "huaweicloud_images_image" "ubuntu" {
  name        = "Ubuntu 22.04 server 64bit"
  most_recent = true
}

# iac-ims:deployer
resource "huaweicloud_identity_group" "image_ci" {
  name = "image-ci"
}

resource "huaweicloud_identity_role" "image_ci" {
  name        = "image-ci"
  type        = "XA"
  description = "Build golden images"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_ci" {
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = huaweicloud_identity_role.image_ci.id
  project_id = "all"
}
