# The role of a nightly inventory job that still calls the Glance v1 API: GET /v1.1/images/detail
# and HEAD /v1/images/{image_id} are deprecated (use GET /v2/images and GET /v2/images/{image_id}).

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "inventory" {
  name        = "image-inventory"
  description = "The nightly image-inventory job"
}

# iac-ims:intent native_v1_list_images_detail, native_v1_head_image
resource "huaweicloud_identity_role" "image_inventory" {
  name        = "image-inventory"
  description = "List images and read their metadata for the inventory report"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "inventory_project" {
  group_id   = huaweicloud_identity_group.inventory.id
  role_id    = huaweicloud_identity_role.image_inventory.id
  project_id = var.project_id
}
