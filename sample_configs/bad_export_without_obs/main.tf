# An export role whose group is never given OBS Tenant Administrator: the export call fails.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "exporters" {
  name = "image-exporters"
}

resource "huaweicloud_identity_role" "exporter" {
  name        = "image-exporter"
  description = "Export images to OBS"
  type        = "XA"
  policy = jsonencode({
    "Version" : "1.1",
    "Statement" : [
      {
        "Effect" : "Allow",
        "Action" : ["ims:images:export", "ims:images:list"]
      }
    ]
  })
}

resource "huaweicloud_identity_group_role_assignment" "exporters_project" {
  group_id   = huaweicloud_identity_group.exporters.id
  role_id    = huaweicloud_identity_role.exporter.id
  project_id = var.project_id
}
