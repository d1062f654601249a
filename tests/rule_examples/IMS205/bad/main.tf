# IMS205 (bad): the RBAC system role IMS Administrator granted at a project without the role it
# depends on, Tenant Administrator at global-service scope. The console adds the dependency;
# Terraform does not, and without it IMS Administrator does not take effect.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
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
