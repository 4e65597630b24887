import { useLocalStandIns } from '../../local/stand-ins';

// Quiet, deterministic defaults for every test file; suites override what they need.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
// Cursors are signed (lambdas/adapters/cursor-codec.ts); a fixed key for every test process.
process.env.CURSOR_SIGNING_KEY ??= 'test-cursor-signing-key-0123456789abcdef';
// Local mode's stand-ins (scripted model, hashing embedder, outbox, local issuer, in-process
// approval workflow) are given to the composition as local mode gives them; each loads on first use.
useLocalStandIns();
