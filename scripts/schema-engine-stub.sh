#!/bin/sh
# Stands in for Prisma's native schema-engine where it cannot be downloaded: `prisma generate`
# only checks that the file exists. Commands that need the real engine fail with this message.
echo "schema-engine stub: the native schema engine is not available offline" >&2
exit 1
