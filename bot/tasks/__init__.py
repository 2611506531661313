"""月清单、季调度、年评比 (issue #16): task lists a higher unit issues to the branches below, and 量化计分."""
