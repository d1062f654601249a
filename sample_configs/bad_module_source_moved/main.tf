# The IAM modules were regrouped under modules/iam/, and this call still names the old path
# ./modules/image_roles: terraform init fails. The module at its new place is not called by
# anything, so it is scanned on its own with its inputs unknown.

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
