# A service agency that creates image metadata through an enterprise project, with a custom role.
# POST /v2/images (ims:images:create) cannot be granted at enterprise-project scope.

resource "huaweicloud_identity_role" "image_metadata_writer" {
  name        = "image-metadata-writer"
  description = "Create image metadata for the image factory"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:create"] }]
  })
}

resource "huaweicloud_identity_agency" "image_factory" {
  name                  = "image-factory"
  delegated_domain_name = "factory-account"

  enterprise_project_roles {
    enterprise_project = "image-factory"
    roles              = [huaweicloud_identity_role.image_metadata_writer.name]
  }
}
