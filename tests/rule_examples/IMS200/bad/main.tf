# IMS200 (bad): a role whose only IMS operation, POST /v2/images (native_create_image), cannot be
# granted through an enterprise project, assigned at enterprise-project scope: it gives nothing in IMS.

variable "enterprise_project_id" {
  type    = string
  default = "0aa6b1f4-7b4c-4e4b-9b7e-0d5c1ab3c2f1"
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
  enterprise_project_id = var.enterprise_project_id
}
