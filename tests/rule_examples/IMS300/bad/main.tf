# IMS300 (bad): a role meant to list images and create images from servers (intent below) that
# grants only "ims:images:list": POST /v2/cloudimages/action fails with 403.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_team" {
  name = "image-team"
}

# iac-ims:intent list_images, create_image
resource "huaweicloud_identity_role" "image_operator" {
  name        = "image-operator"
  description = "List images and create private images from build servers"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_team" {
  group_id = huaweicloud_identity_group.image_team.id
  role_id  = huaweicloud_identity_role.image_operator.id
  project_id = var.project_id
}
