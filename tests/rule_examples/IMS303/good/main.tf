# IMS303 (good): the same group, also given Tenant Administrator at global-service scope
# (domain_id), where it covers OBS.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_exporters" {
  name = "image-exporters"
}

# iac-ims:intent export_image, list_images
resource "huaweicloud_identity_role" "image_exporter" {
  name        = "image-exporter"
  description = "Export images to OBS buckets"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:export", "ims:images:list"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_exporters_project" {
  group_id   = huaweicloud_identity_group.image_exporters.id
  role_id    = huaweicloud_identity_role.image_exporter.id
  project_id = var.project_id
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_exporters_obs" {
  group_id  = huaweicloud_identity_group.image_exporters.id
  role_id   = data.huaweicloud_identity_role.tenant_admin.id
  domain_id = var.domain_id
}
