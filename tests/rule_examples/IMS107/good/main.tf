# IMS107 (good): the same role with both actions the member API needs.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_publishers" {
  name = "image-publishers"
}

resource "huaweicloud_identity_role" "image_sharer" {
  name        = "image-sharer"
  description = "Share golden images with tenant accounts (OpenStack-native member API)"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:share", "ims:images:get"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_publishers_project" {
  group_id   = huaweicloud_identity_group.image_publishers.id
  role_id    = huaweicloud_identity_role.image_sharer.id
  project_id = var.project_id
}
