# IMS200 (good): the same role assigned at project scope, where POST /v2/images can be granted.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_registrars" {
  name = "image-registrars"
}

resource "huaweicloud_identity_role" "image_metadata_writer" {
  name        = "image-metadata-writer"
  description = "Create image records with POST /v2/images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:create"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_registrars" {
  group_id   = huaweicloud_identity_group.image_registrars.id
  role_id    = huaweicloud_identity_role.image_metadata_writer.id
  project_id = var.project_id
}
