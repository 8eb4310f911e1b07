"""Encrypted, verified backups of the lake (issue 8): sealed blobs, manifests, restore."""
