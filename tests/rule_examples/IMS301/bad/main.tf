# IMS301 (bad): a clean-up group meant to delete images (intent below) holds a role that allows
# "ims:images:delete" and a guard-rail role that denies it. The Deny wins: the delete fails.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

# iac-ims:intent native_delete_image
resource "huaweicloud_identity_group" "image_cleanup" {
  name        = "image-cleanup"
  description = "Deletes expired images"
}

resource "huaweicloud_identity_role" "image_janitor" {
  name        = "image-janitor"
  description = "List and delete images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:delete"] }]
  })
}

resource "huaweicloud_identity_role" "image_guard_rail" {
  name        = "image-guard-rail"
  description = "Guard rail for every image group: no image export, no image deletion"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Deny", Action = ["ims:images:export", "ims:images:delete"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_cleanup_janitor" {
  group_id   = huaweicloud_identity_group.image_cleanup.id
  role_id    = huaweicloud_identity_role.image_janitor.id
  project_id = var.project_id
}

resource "huaweicloud_identity_group_role_assignment" "image_cleanup_guard_rail" {
  group_id   = huaweicloud_identity_group.image_cleanup.id
  role_id    = huaweicloud_identity_role.image_guard_rail.id
  project_id = var.project_id
}
