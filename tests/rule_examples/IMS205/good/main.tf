# IMS205 (good): the same grant with its dependency, Tenant Administrator at global-service scope.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_admins" {
  name = "image-admins"
}

data "huaweicloud_identity_role" "ims_administrator" {
  display_name = "IMS Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_admins_ims" {
  group_id   = huaweicloud_identity_group.image_admins.id
  role_id    = data.huaweicloud_identity_role.ims_administrator.id
  project_id = var.project_id
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_admins_tenant_admin" {
  group_id  = huaweicloud_identity_group.image_admins.id
  role_id   = data.huaweicloud_identity_role.tenant_admin.id
  domain_id = var.domain_id
}
