# The identity CI runs terraform as, and the role it holds in every project.

# iac-ims:deployer
resource "huaweicloud_identity_user" "ci" {
  name        = "ci-golden-image"
  description = "Runs terraform for the golden-image pipeline"
}

resource "huaweicloud_identity_group" "image_ci" {
  name = "image-ci"
}

resource "huaweicloud_identity_group_membership" "image_ci" {
  group = huaweicloud_identity_group.image_ci.id
  users = [huaweicloud_identity_user.ci.id]
}

# iac-ims:intent create_image, list_images, show_image_tags, update_image, native_delete_image, copy_image_cross_region
resource "huaweicloud_identity_role" "image_ci" {
  name        = "image-ci"
  type        = "XA"
  description = "Build, copy and retire golden images"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = [
        "ims:serverImages:create",
        "ims:images:list",
        "ims:images:update",
        "ims:images:delete",
        "ims:images:copy",
      ]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_ci_all_projects" {
  group_id   = huaweicloud_identity_group.image_ci.id
  role_id    = huaweicloud_identity_role.image_ci.id
  project_id = "all"
}
