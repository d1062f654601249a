# IMS201 (bad): an IMS role assigned only at global-service scope (domain_id). IMS is a
# project-level service, so the group gains nothing in IMS.

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_ops" {
  name = "image-ops"
}

resource "huaweicloud_identity_role" "image_viewer" {
  name        = "image-viewer"
  description = "List and show images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_ops" {
  group_id = huaweicloud_identity_group.image_ops.id
  role_id  = huaweicloud_identity_role.image_viewer.id
  domain_id = var.domain_id
}
