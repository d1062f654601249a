# An assignment half-migrated to enterprise projects: enterprise_project_id was added and
# project_id not removed. An assignment takes exactly one scope; the provider rejects this one.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

variable "enterprise_project_id" {
  type    = string
  default = "0aa6b1f4-7b4c-4e4b-9b7e-0d5c1ab3c2f1"
}

resource "huaweicloud_identity_group" "golden_image_builders" {
  name = "golden-image-builders"
}

# iac-ims:intent create_image, list_images
resource "huaweicloud_identity_role" "image_builder" {
  name        = "image-builder"
  description = "Create private images from build servers"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:serverImages:create", "ims:images:list"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "golden_image_builders" {
  group_id              = huaweicloud_identity_group.golden_image_builders.id
  role_id               = huaweicloud_identity_role.image_builder.id
  project_id            = var.project_id
  enterprise_project_id = var.enterprise_project_id
}
