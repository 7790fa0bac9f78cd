"""The lab's stand-in for EKS: shop pods as processes, a deployment controller and an HPA per region."""
