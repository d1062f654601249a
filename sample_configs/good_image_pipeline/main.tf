# A image-build pipeline group that exports images to OBS, done right:
# the custom role grants exactly what its intents need, it is assigned at project scope,
# and the group holds OBS Tenant Administrator at global-service scope for the export.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_builders" {
  name        = "image-builders"
  description = "CI pipelines that build and export golden images"
}

# iac-ims:intent create_image, export_image, list_images
resource "huaweicloud_identity_role" "image_exporter" {
  name        = "image-exporter"
  description = "Create golden images from build servers and export them to OBS"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "ims:serverImages:create",
          "ims:images:export",
          "ims:images:list",
        ]
      }
    ]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_exporter_project" {
  group_id   = huaweicloud_identity_group.image_builders.id
  role_id    = huaweicloud_identity_role.image_exporter.id
  project_id = var.project_id
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_builders_obs" {
  group_id  = huaweicloud_identity_group.image_builders.id
  role_id   = data.huaweicloud_identity_role.tenant_admin.id
  domain_id = var.domain_id
}
