# IMS100 (bad): a custom role whose policy says Version "1.0", the format of Huawei's RBAC system
# roles. IAM accepts only Version "1.1" for a custom policy and rejects the role.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_viewers" {
  name = "image-viewers"
}

resource "huaweicloud_identity_role" "image_viewer" {
  name        = "image-viewer"
  description = "List and show images"
  type        = "XA"
  policy = jsonencode({
    Version = "1.0"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list", "ims:images:get"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_viewers_project" {
  group_id   = huaweicloud_identity_group.image_viewers.id
  role_id    = huaweicloud_identity_role.image_viewer.id
  project_id = var.project_id
}
