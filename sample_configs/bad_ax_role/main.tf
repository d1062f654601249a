# A custom role of type AX (global services) holding IMS actions, mixed with OBS ones.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_readers" {
  name = "image-readers"
}

resource "huaweicloud_identity_role" "image_reader" {
  name        = "image-reader"
  description = "Read images and the buckets they are exported to"
  type        = "AX"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list", "ims:images:get", "obs:bucket:ListAllMyBuckets"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "readers_project" {
  group_id   = huaweicloud_identity_group.image_readers.id
  role_id    = huaweicloud_identity_role.image_reader.id
  project_id = var.project_id
}
