package kube

// FieldManager is the server-side apply field manager of every change the plugin makes.
const FieldManager = "kubectl-flexigrobots"

// ManagedByLabel marks what the plugin created (value FieldManager).
const ManagedByLabel = "app.kubernetes.io/managed-by"
