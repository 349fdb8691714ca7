#!/usr/bin/env node
// The JavaScript entry for platforms without the native `tsinit` executable:
// scripts/place-launcher.js copies this to bin/tsinit when no launcher was
// built or shipped. Node then reads NODE_OPTIONS for tsinit itself.
'use strict';
require('../dist/cli.js');
