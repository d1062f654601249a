# IMS310 (good): the same CI group, also given Tenant Administrator at global-service scope, which
# covers OBS.

resource "huaweicloud_ims_obs_system_image" "imported" {
  name        = "imported-debian-12"
  image_url   = "golden-images:debian-12.qcow2"
  min_disk    = 40
  os_version  = "Debian GNU/Linux 12.0.0 64bit"
}

# iac-ims:deployer
resource "huaweicloud_identity_group" "image_ci" {
  name = "image-ci"
}

resource "huaweicloud_identity_role" "image_ci" {
  name        = "image-ci"
  type        = "XA"
  description = "Build golden images"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:serverImages:create", "ims:images:list", "ims:images:update", "ims:images:delete"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_ci" {
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = huaweicloud_identity_role.image_ci.id
  project_id = "all"
}

data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}

resource "huaweicloud_identity_group_role_assignment" "image_ci_obs" {
  group_id  = huaweicloud_identity_group.image_ci.id
  role_id   = data.huaweicloud_identity_role.tenant_admin.id
  domain_id = "8f2a6c1b9d0e4f3a8b7c6d5e4f3a2b1c"
}
