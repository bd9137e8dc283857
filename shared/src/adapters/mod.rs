//! Adapters: the ports implemented over AWS services and the Graph API.

pub mod aws;
pub mod clock;
pub mod customers;
pub mod deadlines;
pub mod desk;
pub mod dynamo;
pub mod events;
pub mod graph;
pub mod keys;
pub mod lambda_sqs;
pub mod memory;
pub mod metrics;
pub mod orders;
pub mod rekognition;
pub mod reports;
pub mod s3;
pub mod secrets;
pub mod sqs;
