//! Browser client (placeholder; built out in client/).
