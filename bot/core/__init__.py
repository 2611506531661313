"""The runtime every feature builds on: pipeline, routers, context, database, config, outbox, scheduler, channels."""
