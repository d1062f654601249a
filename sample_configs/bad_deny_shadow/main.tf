# An image administrator group meant to delete images; a second role denies the delete.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

# iac-ims:intent native_delete_image
resource "huaweicloud_identity_group" "image_admins" {
  name = "image-admins"
}

resource "huaweicloud_identity_role" "image_admin" {
  name        = "image-admin"
  description = "Everything in IMS"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:*:*"] }]
  })
}

resource "huaweicloud_identity_role" "no_image_delete" {
  name        = "no-image-delete"
  description = "Guard rail: images are never deleted by people"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{ Effect = "Deny", Action = ["ims:images:delete"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "admins_image_admin" {
  group_id   = huaweicloud_identity_group.image_admins.id
  role_id    = huaweicloud_identity_role.image_admin.id
  project_id = var.project_id
}

resource "huaweicloud_identity_group_role_assignment" "admins_guard_rail" {
  group_id   = huaweicloud_identity_group.image_admins.id
  role_id    = huaweicloud_identity_role.no_image_delete.id
  project_id = var.project_id
}
