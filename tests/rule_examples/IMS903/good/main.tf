# IMS903 (good): the same call naming the module where it now is, ./modules/image_roles.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_viewers" {
  name = "image-viewers"
}

module "image_roles" {
  source     = "./modules/image_roles"
  project_id = var.project_id
  group_id   = huaweicloud_identity_group.image_viewers.id
}
