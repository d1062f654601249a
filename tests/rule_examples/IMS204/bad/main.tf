# IMS204 (bad): the OBS rights for image export looked up as "Tenant Adminstrator" (misspelt).
# No system role has that name, so the group is never given Tenant Administrator.

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_exporters" {
  name = "image-exporters"
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Adminstrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_exporters_obs" {
  group_id  = huaweicloud_identity_group.image_exporters.id
  role_id   = data.huaweicloud_identity_role.tenant_admin.id
  domain_id = var.domain_id
}
