# A temporary migration role with the admin wildcard, meant to be accepted with a skip comment.
# The comment names "IMS160" (digits swapped) instead of IMS106: no rule has that ID, so it
# suppresses nothing; iac-ims reports the comment, and the wildcard finding still shows.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "migration" {
  name        = "image-migration"
  description = "Moves the image catalogue to the new region (until the migration ends)"
}

# iac-ims:skip=IMS160:migration team needs every IMS action until the cut-over
resource "huaweicloud_identity_role" "image_migration" {
  name        = "image-migration"
  description = "Everything in IMS, for the duration of the migration"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:*:*"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "migration_project" {
  group_id   = huaweicloud_identity_group.migration.id
  role_id    = huaweicloud_identity_role.image_migration.id
  project_id = var.project_id
}
