# A role meant to quick-import data-disk images, which grants only the system-disk action.

resource "huaweicloud_identity_group" "importers" {
  name = "image-importers"
}

# iac-ims:intent quick_import_data_image
resource "huaweicloud_identity_role" "quick_importer" {
  name        = "image-quick-importer"
  description = "Quick import of image files from OBS"
  type        = "XA"
  policy      = <<-EOT
    {
      "Version": "1.1",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": ["ims:serverImages:create"]
        }
      ]
    }
  EOT
}

resource "huaweicloud_identity_group_role_assignment" "importers_all_projects" {
  group_id   = huaweicloud_identity_group.importers.id
  role_id    = huaweicloud_identity_role.quick_importer.id
  project_id = "all"
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "importers_obs" {
  group_id   = huaweicloud_identity_group.importers.id
  role_id    = data.huaweicloud_identity_role.tenant_admin.id
  project_id = "all"
}
