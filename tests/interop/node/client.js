#!/usr/bin/env node
// A node-soap client for Turnout's interop tests.
// Usage: node client.js WSDL_URL ENDPOINT_URL RECORD_ID [RECORD_ID...]
// Reads the WSDL from WSDL_URL, then calls GetRecord at ENDPOINT_URL once per id, in order, on
// one client (so one kept-alive connection), and prints one line of JSON: an array with, per id,
//   {"status": 200, "result": {...}, "raw": "<the response body as received>"}
//   {"status": 500, "fault": {"faultcode": ..., "faultstring": ...}, "raw": "..."}
//   {"status": N or null, "error": "message"}        anything else (a parse error, a refusal)
// Exits 1 when the WSDL cannot be read.
'use strict';
const soap = require('soap');

async function call(client, recordId) {
  try {
    const [result, raw] = await client.GetRecordAsync({ recordId });
    return { status: 200, result, raw };
  } catch (err) {
    const status = err && err.response ? err.response.status : null;
    const body = err && err.root && err.root.Envelope && err.root.Envelope.Body;
    if (body && body.Fault) {
      const { faultcode, faultstring } = body.Fault;
      const raw = err.body === undefined ? null : String(err.body);
      return { status, fault: { faultcode, faultstring }, raw };
    }
    return { status, error: String((err && err.message) || err) };
  }
}

async function main() {
  const [wsdlUrl, endpoint, ...ids] = process.argv.slice(2);
  if (!wsdlUrl || !endpoint || ids.length === 0) {
    throw new Error('usage: node client.js WSDL_URL ENDPOINT_URL RECORD_ID [RECORD_ID...]');
  }
  const client = await soap.createClientAsync(wsdlUrl, { endpoint });
  const answers = [];
  for (const id of ids) {
    answers.push(await call(client, id));
  }
  return answers;
}

main().then(
  (answers) => { process.stdout.write(JSON.stringify(answers) + '\n'); },
  (err) => {
    process.stderr.write(`client.js: ${(err && err.message) || err}\n`);
    process.exitCode = 1;
  },
);
