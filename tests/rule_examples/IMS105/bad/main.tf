# IMS105 (bad): a Resource element meant to restrict the role to one image. IMS has no
# resource-level authorization, so Resource cannot restrict IMS actions as written.

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
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list", "ims:images:get"]
      Resource = ["ims:*:*:image:6f1c2a3b-9d8e-4f70-a1b2-c3d4e5f60718"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_viewers_project" {
  group_id   = huaweicloud_identity_group.image_viewers.id
  role_id    = huaweicloud_identity_role.image_viewer.id
  project_id = var.project_id
}
