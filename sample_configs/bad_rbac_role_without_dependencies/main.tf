# An image administrators group given the RBAC system role IMS Administrator in one project.
# IMS Administrator depends on Tenant Administrator at global-service scope; the console adds the
# dependency when you grant the role there, Terraform does not, and without it the role does not
# take effect.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "catalogue_admins" {
  name        = "image-catalogue-admins"
  description = "Platform engineers who manage the golden-image catalogue"
}

data "huaweicloud_identity_role" "ims_administrator" {
  display_name = "IMS Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "catalogue_admins_ims" {
  group_id   = huaweicloud_identity_group.catalogue_admins.id
  role_id    = data.huaweicloud_identity_role.ims_administrator.id
  project_id = var.project_id
}
