# IMS308 (bad): the CI group that applies an ECS system image lacks ims:serverImages:create, so
# the create call fails with 403.

resource "huaweicloud_ims_ecs_system_image" "golden" {
  name        = "golden-centos"
  instance_id = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
  description = "Golden CentOS image built by CI"
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
      Action = ["ims:images:list", "ims:images:update", "ims:images:delete"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_ci" {
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = huaweicloud_identity_role.image_ci.id
  project_id = "all"
}
