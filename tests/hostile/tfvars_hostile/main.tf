variable "p" {
  type = string
}

resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = var.p
}
