# The legacy assignment resource granting an IMS role at global-service (domain) scope only.

variable "domain_id" {
  type    = string
  default = "9f8e7d6c5b4a43210fedcba987654321"
}

resource "huaweicloud_identity_group" "image_ops" {
  name = "image-ops"
}

resource "huaweicloud_identity_role" "image_updater" {
  name        = "image-updater"
  description = "Update image information"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:update", "ims:images:get"] }]
  })
}

resource "huaweicloud_identity_role_assignment" "image_ops_domain" {
  group_id  = huaweicloud_identity_group.image_ops.id
  role_id   = huaweicloud_identity_role.image_updater.id
  domain_id = var.domain_id
}
