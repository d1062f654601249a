resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = templatefile("${path.module}/main.tf", {})
}
resource "huaweicloud_identity_role" "r2" {
  name   = "r2"
  type   = "XA"
  policy = file("main.tf")
}
