variable "unused" {
  default = null
}
