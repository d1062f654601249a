# The golden-image pipeline: CI builds a system image from a prepared ECS, copies it to the
# disaster-recovery region and shares it with the production project. The CI identity's role
# was written before the share was added: it is one action short (ims:images:share), and the
# first apply after the change fails with 403 at the share.

variable "region" {
  type    = string
  default = "cn-north-4"
}

variable "dr_region" {
  type    = string
  default = "cn-east-3"
}

variable "builder_instance_id" {
  type    = string
  default = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
}

variable "prod_project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_ims_ecs_system_image" "golden" {
  name        = "golden-ubuntu-22.04"
  instance_id = var.builder_instance_id
  description = "Hardened Ubuntu 22.04 built by CI"

  tags = {
    pipeline = "golden-image"
  }
}

resource "huaweicloud_images_image_copy" "golden_dr" {
  region          = var.region
  source_image_id = huaweicloud_ims_ecs_system_image.golden.id
  name            = "golden-ubuntu-22.04-dr"
  target_region   = var.dr_region
}

resource "huaweicloud_images_image_share" "golden_prod" {
  source_image_id    = huaweicloud_ims_ecs_system_image.golden.id
  target_project_ids = [var.prod_project_id]
}
