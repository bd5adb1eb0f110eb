#!/usr/bin/env node
// A node-soap server for Turnout's interop tests: GetRecord over the same records as the spyne
// service (../records.json), SOAP 1.1 document/literal, at /records (WSDL at /records?wsdl).
// An unknown id is a Fault with the custom faultcode Client.RecordNotFound (HTTP 500).
// Usage: node server.js [port]   (0 or none: a free port). Prints "listening <port>" when ready;
// stops on SIGTERM or when stdin closes.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const soap = require('soap');

const wsdl = fs.readFileSync(path.join(__dirname, 'records.wsdl'), 'utf8');
const records = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'records.json'), 'utf8'));

const service = {
  RecordService: {
    RecordPort: {
      GetRecord(args) {
        const record = records[args.recordId];
        if (!record) {
          throw {
            Fault: {
              faultcode: 'soap:Client.RecordNotFound',
              faultstring: `no record with id ${args.recordId}`,
              statusCode: 500,
            },
          };
        }
        return {
          GetRecordResult: {
            id: record.id,
            title: record.title,
            created: record.created,
            tags: { string: record.tags },
          },
        };
      },
    },
  },
};

const server = http.createServer((request, response) => {
  response.statusCode = 404;
  response.end('not found');
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  soap.listen(server, '/records', service, wsdl);
  process.stdout.write(`listening ${server.address().port}\n`);
});
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
