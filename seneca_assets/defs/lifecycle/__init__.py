"""Lifecycle: backups on schedules, each verified and logged."""
