# IMS303 (bad): an export role whose group is never given OBS Tenant Administrator. Exporting an
# image writes to an OBS bucket, so POST /v1/cloudimages/{image_id}/file fails without it.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
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
