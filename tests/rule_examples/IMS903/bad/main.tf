# IMS903 (bad): the module directory was renamed from modules/image-roles to modules/image_roles
# and the call still names the old path: terraform init fails, and the roles are not checked.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_viewers" {
  name = "image-viewers"
}

module "image_roles" {
  source     = "./modules/image-roles"
  project_id = var.project_id
  group_id   = huaweicloud_identity_group.image_viewers.id
}
