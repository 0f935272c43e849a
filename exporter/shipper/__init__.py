"""Ship ipcomp events and metric documents to Elasticsearch and OpenSearch (see README.md)."""
