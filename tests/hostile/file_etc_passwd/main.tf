resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = file("/etc/passwd")
}
resource "huaweicloud_identity_role" "r2" {
  name   = "r2"
  type   = "XA"
  policy = templatefile("/etc/passwd", {})
}
resource "huaweicloud_identity_role" "r3" {
  name   = "r3"
  type   = "XA"
  policy = file("${path.module}/../../../../../../../../../../../../etc/passwd")
}
