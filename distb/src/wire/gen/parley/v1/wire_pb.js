// Parley wire schema, version 1. Every message between Parley nodes is defined here.
// docs/protocol.md describes framing, the handshake and the rules for evolving this file
// (add fields and oneof cases; never reuse or renumber a tag).
import { enumDesc, fileDesc, messageDesc } from "@bufbuild/protobuf/codegenv2";
/**
 * Describes the file parley/v1/wire.proto.
 */
export const file_parley_v1_wire = /*@__PURE__*/ fileDesc("ChRwYXJsZXkvdjEvd2lyZS5wcm90bxIJcGFybGV5LnYxIskBCg9DZXJ0aWZpY2F0ZUJvZHkSDwoHdmVyc2lvbhgBIAEoDRISCgpuZXR3b3JrX2lkGAIgASgMEhAKCHVzZXJuYW1lGAMgASgJEh0KBHJvbGUYBCABKA4yDy5wYXJsZXkudjEuUm9sZRITCgtzaWduaW5nX2tleRgFIAEoDBIOCgZkaF9rZXkYBiABKAwSDgoGc2VyaWFsGAcgASgEEhQKDGlzc3VlZF9hdF9tcxgIIAEoBBIVCg1leHBpcmVzX2F0X21zGAkgASgEIi4KC0NlcnRpZmljYXRlEgwKBGJvZHkYASABKAwSEQoJc2lnbmF0dXJlGAIgASgMIo4BChBIYW5kc2hha2VQYXlsb2FkEhAKCHZlcnNpb25zGAEgAygNEhYKDmNob3Nlbl92ZXJzaW9uGAIgASgNEhIKCm5ldHdvcmtfaWQYAyABKAwSEwoLY2VydGlmaWNhdGUYBCABKAwSJwoGcmVqZWN0GAUgASgOMhcucGFybGV5LnYxLlJlamVjdFJlYXNvbiIVCgRQaW5nEg0KBW5vbmNlGAEgASgEIhUKBFBvbmcSDQoFbm9uY2UYASABKAQiPwoFQ2xvc2USJgoGcmVhc29uGAEgASgOMhYucGFybGV5LnYxLkNsb3NlUmVhc29uEg4KBmRldGFpbBgCIAEoCSIoCgREYXRhEg8KB2NoYW5uZWwYASABKA0SDwoHcGF5bG9hZBgCIAEoDCIhCg1BdHRhY2hSZXF1ZXN0EhAKCHByZXNlbmNlGAEgASgMIlwKDkF0dGFjaEFjY2VwdGVkEh0KFWtlZXBhbGl2ZV9pbnRlcnZhbF9tcxgBIAEoDRIrCgpzdXBlcm5vZGVzGAIgAygLMhcucGFybGV5LnYxLlN1cGVybm9kZVJlZiJJCg1BdHRhY2hSZWZ1c2VkEigKBnJlYXNvbhgBIAEoDjIYLnBhcmxleS52MS5BdHRhY2hSZWZ1c2FsEg4KBmRldGFpbBgCIAEoCSJXCghGaW5kTm9kZRISCgpyZXF1ZXN0X2lkGAEgASgEEg4KBnRhcmdldBgCIAEoDBInCgZzZW5kZXIYAyABKAsyFy5wYXJsZXkudjEuU3VwZXJub2RlUmVmIkgKCkZvdW5kTm9kZXMSEgoKcmVxdWVzdF9pZBgBIAEoBBImCgVub2RlcxgCIAMoCzIXLnBhcmxleS52MS5TdXBlcm5vZGVSZWYibgoNU3RvcmVQcmVzZW5jZRISCgpyZXF1ZXN0X2lkGAEgASgEEg4KBnJlY29yZBgCIAEoDBInCgZzZW5kZXIYAyABKAsyFy5wYXJsZXkudjEuU3VwZXJub2RlUmVmEhAKCGxlYXNlX21zGAQgASgNIlYKBlN0b3JlZBISCgpyZXF1ZXN0X2lkGAEgASgEEigKB291dGNvbWUYAiABKA4yFy5wYXJsZXkudjEuU3RvcmVPdXRjb21lEg4KBmRldGFpbBgDIAEoCSJfChBXaXRoZHJhd1ByZXNlbmNlEhIKCnJlcXVlc3RfaWQYASABKAQSDgoGcmVjb3JkGAIgASgMEicKBnNlbmRlchgDIAEoCzIXLnBhcmxleS52MS5TdXBlcm5vZGVSZWYiXAoJV2l0aGRyYXduEhIKCnJlcXVlc3RfaWQYASABKAQSKwoHb3V0Y29tZRgCIAEoDjIaLnBhcmxleS52MS5XaXRoZHJhd091dGNvbWUSDgoGZGV0YWlsGAMgASgJIl0KDEZpbmRQcmVzZW5jZRISCgpyZXF1ZXN0X2lkGAEgASgEEhAKCHVzZXJuYW1lGAIgASgJEicKBnNlbmRlchgDIAEoCzIXLnBhcmxleS52MS5TdXBlcm5vZGVSZWYihQEKDUZvdW5kUHJlc2VuY2USEgoKcmVxdWVzdF9pZBgBIAEoBBIPCgdyZWNvcmRzGAIgAygMEiYKBW5vZGVzGAMgAygLMhcucGFybGV5LnYxLlN1cGVybm9kZVJlZhInCgdyZWZ1c2VkGAQgASgOMhYucGFybGV5LnYxLkZpbmRSZWZ1c2FsIlMKDFJvdXRlUmVxdWVzdBISCgpyZXF1ZXN0X2lkGAEgASgEEgoKAnRvGAIgASgJEg8KB3BheWxvYWQYAyABKAwSEgoKZGV2aWNlX2tleRgEIAEoDCJRCg5EZXZpY2VEZWxpdmVyeRISCgpkZXZpY2Vfa2V5GAEgASgMEisKB291dGNvbWUYAiABKA4yGi5wYXJsZXkudjEuRGVsaXZlcnlPdXRjb21lInoKC1JvdXRlUmVzdWx0EhIKCnJlcXVlc3RfaWQYASABKAQSLQoKZGVsaXZlcmllcxgCIAMoCzIZLnBhcmxleS52MS5EZXZpY2VEZWxpdmVyeRIoCgdmYWlsdXJlGAMgASgOMhcucGFybGV5LnYxLlJvdXRlRmFpbHVyZSJVCgxSb3V0ZUZvcndhcmQSEgoKcmVxdWVzdF9pZBgBIAEoBBISCgpkZXZpY2Vfa2V5GAIgASgMEgwKBGZyb20YAyABKAkSDwoHcGF5bG9hZBgEIAEoDCJRCg5Sb3V0ZUZvcndhcmRlZBISCgpyZXF1ZXN0X2lkGAEgASgEEisKB291dGNvbWUYAiABKA4yGi5wYXJsZXkudjEuRGVsaXZlcnlPdXRjb21lIj4KCERlbGl2ZXJ5EhMKC2RlbGl2ZXJ5X2lkGAEgASgEEgwKBGZyb20YAiABKAkSDwoHcGF5bG9hZBgDIAEoDCIiCgtEZWxpdmVyeUFjaxITCgtkZWxpdmVyeV9pZBgBIAEoBCI1ChFSZWFjaGFiaWxpdHlDaGVjaxISCgpyZXF1ZXN0X2lkGAEgASgEEgwKBHBvcnQYAiABKA0iYAoSUmVhY2hhYmlsaXR5UmVzdWx0EhIKCnJlcXVlc3RfaWQYASABKAQSEQoJcmVhY2hhYmxlGAIgASgIEg4KBmRldGFpbBgDIAEoCRITCgthdHRlc3RhdGlvbhgEIAEoDCK0AQoQUmVhY2hhYmlsaXR5Qm9keRIPCgd2ZXJzaW9uGAEgASgNEhIKCm5ldHdvcmtfaWQYAiABKAwSFgoOc3ViamVjdF9kaF9rZXkYAyABKAwSDAoEaG9zdBgEIAEoCRIMCgRwb3J0GAUgASgNEhMKC3VwbG9hZF9rYnBzGAYgASgNEhUKDWNoZWNrZWRfYXRfbXMYByABKAQSGwoTY2hlY2tlcl9jZXJ0aWZpY2F0ZRgIIAEoDCI6ChdSZWFjaGFiaWxpdHlBdHRlc3RhdGlvbhIMCgRib2R5GAEgASgMEhEKCXNpZ25hdHVyZRgCIAEoDCLbCQoIRW52ZWxvcGUSHwoEcGluZxgBIAEoCzIPLnBhcmxleS52MS5QaW5nSAASHwoEcG9uZxgCIAEoCzIPLnBhcmxleS52MS5Qb25nSAASIQoFY2xvc2UYAyABKAsyEC5wYXJsZXkudjEuQ2xvc2VIABIfCgRkYXRhGAQgASgLMg8ucGFybGV5LnYxLkRhdGFIABIyCg5hdHRhY2hfcmVxdWVzdBgFIAEoCzIYLnBhcmxleS52MS5BdHRhY2hSZXF1ZXN0SAASNAoPYXR0YWNoX2FjY2VwdGVkGAYgASgLMhkucGFybGV5LnYxLkF0dGFjaEFjY2VwdGVkSAASMgoOYXR0YWNoX3JlZnVzZWQYByABKAsyGC5wYXJsZXkudjEuQXR0YWNoUmVmdXNlZEgAEigKCWZpbmRfbm9kZRgIIAEoCzITLnBhcmxleS52MS5GaW5kTm9kZUgAEiwKC2ZvdW5kX25vZGVzGAkgASgLMhUucGFybGV5LnYxLkZvdW5kTm9kZXNIABIyCg5zdG9yZV9wcmVzZW5jZRgKIAEoCzIYLnBhcmxleS52MS5TdG9yZVByZXNlbmNlSAASIwoGc3RvcmVkGAsgASgLMhEucGFybGV5LnYxLlN0b3JlZEgAEjAKDWZpbmRfcHJlc2VuY2UYDCABKAsyFy5wYXJsZXkudjEuRmluZFByZXNlbmNlSAASMgoOZm91bmRfcHJlc2VuY2UYDSABKAsyGC5wYXJsZXkudjEuRm91bmRQcmVzZW5jZUgAEjAKDXJvdXRlX3JlcXVlc3QYDiABKAsyFy5wYXJsZXkudjEuUm91dGVSZXF1ZXN0SAASLgoMcm91dGVfcmVzdWx0GA8gASgLMhYucGFybGV5LnYxLlJvdXRlUmVzdWx0SAASMAoNcm91dGVfZm9yd2FyZBgQIAEoCzIXLnBhcmxleS52MS5Sb3V0ZUZvcndhcmRIABI0Cg9yb3V0ZV9mb3J3YXJkZWQYESABKAsyGS5wYXJsZXkudjEuUm91dGVGb3J3YXJkZWRIABInCghkZWxpdmVyeRgSIAEoCzITLnBhcmxleS52MS5EZWxpdmVyeUgAEi4KDGRlbGl2ZXJ5X2FjaxgTIAEoCzIWLnBhcmxleS52MS5EZWxpdmVyeUFja0gAEjoKEnJlYWNoYWJpbGl0eV9jaGVjaxgUIAEoCzIcLnBhcmxleS52MS5SZWFjaGFiaWxpdHlDaGVja0gAEjwKE3JlYWNoYWJpbGl0eV9yZXN1bHQYFSABKAsyHS5wYXJsZXkudjEuUmVhY2hhYmlsaXR5UmVzdWx0SAASRQoYdHVybl9jcmVkZW50aWFsc19yZXF1ZXN0GBYgASgLMiEucGFybGV5LnYxLlR1cm5DcmVkZW50aWFsc1JlcXVlc3RIABJDChd0dXJuX2NyZWRlbnRpYWxzX2Fuc3dlchgXIAEoCzIgLnBhcmxleS52MS5UdXJuQ3JlZGVudGlhbHNBbnN3ZXJIABI4ChF3aXRoZHJhd19wcmVzZW5jZRgYIAEoCzIbLnBhcmxleS52MS5XaXRoZHJhd1ByZXNlbmNlSAASKQoJd2l0aGRyYXduGBkgASgLMhQucGFybGV5LnYxLldpdGhkcmF3bkgAQgYKBGJvZHkiLAoWVHVybkNyZWRlbnRpYWxzUmVxdWVzdBISCgpyZXF1ZXN0X2lkGAEgASgEIpoBChVUdXJuQ3JlZGVudGlhbHNBbnN3ZXISEgoKcmVxdWVzdF9pZBgBIAEoBBIQCgh1c2VybmFtZRgCIAEoCRIQCghwYXNzd29yZBgDIAEoCRIVCg1leHBpcmVzX2F0X21zGAQgASgEEg0KBXJlYWxtGAUgASgJEhAKCHVkcF9wb3J0GAYgASgNEhEKCWF2YWlsYWJsZRgHIAEoCCKRAQoJQ2FuZGlkYXRlEiYKBHR5cGUYASABKA4yGC5wYXJsZXkudjEuQ2FuZGlkYXRlVHlwZRIuCghwcm90b2NvbBgCIAEoDjIcLnBhcmxleS52MS5UcmFuc3BvcnRQcm90b2NvbBIMCgRob3N0GAMgASgJEgwKBHBvcnQYBCABKA0SEAoIcHJpb3JpdHkYBSABKA0iTAoMU3VwZXJub2RlUmVmEgwKBGhvc3QYASABKAkSDAoEcG9ydBgCIAEoDRIOCgZkaF9rZXkYAyABKAwSEAoId2ViX3BvcnQYBCABKA0ilgIKDFByZXNlbmNlQm9keRIPCgd2ZXJzaW9uGAEgASgNEhIKCm5ldHdvcmtfaWQYAiABKAwSEAoIdXNlcm5hbWUYAyABKAkSEwoLY2VydGlmaWNhdGUYBCABKAwSKwoKc3VwZXJub2RlcxgFIAMoCzIXLnBhcmxleS52MS5TdXBlcm5vZGVSZWYSKAoKY2FuZGlkYXRlcxgGIAMoCzIULnBhcmxleS52MS5DYW5kaWRhdGUSEAoIc2VxdWVuY2UYByABKAQSFAoMaXNzdWVkX2F0X21zGAggASgEEhUKDWV4cGlyZXNfYXRfbXMYCSABKAQSJAoIbmF0X3R5cGUYCiABKA4yEi5wYXJsZXkudjEuTmF0VHlwZSIxCg5QcmVzZW5jZVJlY29yZBIMCgRib2R5GAEgASgMEhEKCXNpZ25hdHVyZRgCIAEoDCJoCghFMmVGcmFtZRIsCgloYW5kc2hha2UYASABKAsyFy5wYXJsZXkudjEuRTJlSGFuZHNoYWtlSAASJgoGc2VhbGVkGAIgASgLMhQucGFybGV5LnYxLkUyZVNlYWxlZEgAQgYKBGJvZHkiPwoMRTJlSGFuZHNoYWtlEhIKCnNlc3Npb25faWQYASABKAwSDAoEc3RlcBgCIAEoDRINCgVub2lzZRgDIAEoDCIfCghFMmVIZWxsbxITCgtjZXJ0aWZpY2F0ZRgBIAEoDCJECglFMmVTZWFsZWQSEgoKc2Vzc2lvbl9pZBgBIAEoDBIPCgdjb3VudGVyGAIgASgEEhIKCmNpcGhlcnRleHQYAyABKAwidgoORTJlU3RyZWFtRnJhbWUSJwoFaXRlbXMYASADKAsyGC5wYXJsZXkudjEuRTJlU3RyZWFtSXRlbRILCgNhY2sYAiABKAQSDAoEYmFzZRgDIAEoBBINCgVlcG9jaBgEIAEoBBIRCglhY2tfZXBvY2gYBSABKAQiLQoNRTJlU3RyZWFtSXRlbRILCgNzZXEYASABKAQSDwoHcGF5bG9hZBgCIAEoDCJHCgtDaGF0TWVzc2FnZRIKCgJpZBgBIAEoCRIKCgJ0bxgCIAEoCRISCgpzZW50X2F0X21zGAMgASgEEgwKBHRleHQYBCABKAkiWgoOUHJlc2VuY2VVcGRhdGUSJwoFc3RhdGUYASABKA4yGC5wYXJsZXkudjEuUHJlc2VuY2VTdGF0ZRIMCgR0ZXh0GAIgASgJEhEKCXNldF9hdF9tcxgDIAEoBCIzCgZUeXBpbmcSCgoCdG8YASABKAkSDgoGYWN0aXZlGAIgASgIEg0KBWF0X21zGAMgASgEIikKC1JlYWRSZWNlaXB0EgsKA2lkcxgBIAMoCRINCgVhdF9tcxgCIAEoBCKZAgoLQ2hhdFBheWxvYWQSKQoHbWVzc2FnZRgBIAEoCzIWLnBhcmxleS52MS5DaGF0TWVzc2FnZUgAEi0KCHByZXNlbmNlGAIgASgLMhkucGFybGV5LnYxLlByZXNlbmNlVXBkYXRlSAASIwoGdHlwaW5nGAMgASgLMhEucGFybGV5LnYxLlR5cGluZ0gAEiYKBHJlYWQYBCABKAsyFi5wYXJsZXkudjEuUmVhZFJlY2VpcHRIABI0Cgxjb25uZWN0aXZpdHkYBSABKAsyHC5wYXJsZXkudjEuQ29ubmVjdGl2aXR5T2ZmZXJIABIlCgRjYWxsGAYgASgLMhUucGFybGV5LnYxLkNhbGxTaWduYWxIAEIGCgRib2R5IpABChBDb25mZXJlbmNlTWVtYmVyEgwKBHVzZXIYASABKAkSDgoGZGV2aWNlGAIgASgMEiQKCG5hdF90eXBlGAMgASgOMhIucGFybGV5LnYxLk5hdFR5cGUSEwoLdXBsb2FkX2ticHMYBCABKA0SEQoJY3B1X2NvcmVzGAUgASgNEhAKCGRlZ3JhZGVkGAYgASgIIlEKEENvbmZlcmVuY2VSb3N0ZXISDwoHdmVyc2lvbhgBIAEoDRIsCgdtZW1iZXJzGAIgAygLMhsucGFybGV5LnYxLkNvbmZlcmVuY2VNZW1iZXIi+gEKCkNhbGxTaWduYWwSDwoHY2FsbF9pZBgBIAEoDBInCgRraW5kGAIgASgOMhkucGFybGV5LnYxLkNhbGxTaWduYWxLaW5kEhMKC3NydHBfbWFzdGVyGAMgASgMEg4KBmNvZGVjcxgEIAMoCRIQCghmcmFtZV9tcxgFIAEoDRIOCgZyZWFzb24YBiABKAkSKwoGcm9zdGVyGAcgASgLMhsucGFybGV5LnYxLkNvbmZlcmVuY2VSb3N0ZXISKwoGbWVtYmVyGAggASgLMhsucGFybGV5LnYxLkNvbmZlcmVuY2VNZW1iZXISEQoJZnJvbV9jYWxsGAkgASgMIpEBChFDb25uZWN0aXZpdHlPZmZlchISCgphdHRlbXB0X2lkGAEgASgMEg4KBmFuc3dlchgCIAEoCBINCgV1ZnJhZxgDIAEoCRILCgNwd2QYBCABKAkSKwoKY2FuZGlkYXRlcxgFIAMoCzIXLnBhcmxleS52MS5JY2VDYW5kaWRhdGUSDwoHcmVmdXNlZBgGIAEoCCJ6CgxJY2VDYW5kaWRhdGUSKQoEdHlwZRgBIAEoDjIbLnBhcmxleS52MS5JY2VDYW5kaWRhdGVUeXBlEgwKBGhvc3QYAiABKAkSDAoEcG9ydBgDIAEoDRIQCghwcmlvcml0eRgEIAEoDRIRCglyZWxheV90Y3AYBSABKAgiNwoPT2ZmbGluZUVudmVsb3BlEhMKC2NlcnRpZmljYXRlGAEgASgMEg8KB3BheWxvYWQYAiABKAwqWAoEUm9sZRIUChBST0xFX1VOU1BFQ0lGSUVEEAASDwoLUk9MRV9ERVZJQ0UQARISCg5ST0xFX1NVUEVSTk9ERRACEhUKEVJPTEVfTE9HSU5fU0VSVkVSEAMqsAEKDFJlamVjdFJlYXNvbhIdChlSRUpFQ1RfUkVBU09OX1VOU1BFQ0lGSUVEEAASJQohUkVKRUNUX1JFQVNPTl9VTlNVUFBPUlRFRF9WRVJTSU9OEAESHwobUkVKRUNUX1JFQVNPTl9XUk9OR19ORVRXT1JLEAISIQodUkVKRUNUX1JFQVNPTl9CQURfQ0VSVElGSUNBVEUQAxIWChJSRUpFQ1RfUkVBU09OX0JVU1kQBCq5AQoLQ2xvc2VSZWFzb24SHAoYQ0xPU0VfUkVBU09OX1VOU1BFQ0lGSUVEEAASFwoTQ0xPU0VfUkVBU09OX05PUk1BTBABEh8KG0NMT1NFX1JFQVNPTl9QUk9UT0NPTF9FUlJPUhACEiAKHENMT1NFX1JFQVNPTl9CQURfQ0VSVElGSUNBVEUQAxIZChVDTE9TRV9SRUFTT05fU0hVVERPV04QBBIVChFDTE9TRV9SRUFTT05fSURMRRAFKq8BCg1BdHRhY2hSZWZ1c2FsEh4KGkFUVEFDSF9SRUZVU0FMX1VOU1BFQ0lGSUVEEAASFwoTQVRUQUNIX1JFRlVTQUxfRlVMTBABEh8KG0FUVEFDSF9SRUZVU0FMX0JBRF9QUkVTRU5DRRACEh8KG0FUVEFDSF9SRUZVU0FMX05PVF9BX0RFVklDRRADEiMKH0FUVEFDSF9SRUZVU0FMX1RPT19NQU5ZX0RFVklDRVMQBCp7CgxTdG9yZU91dGNvbWUSHQoZU1RPUkVfT1VUQ09NRV9VTlNQRUNJRklFRBAAEhgKFFNUT1JFX09VVENPTUVfU1RPUkVEEAESGgoWU1RPUkVfT1VUQ09NRV9SRUpFQ1RFRBACEhYKElNUT1JFX09VVENPTUVfRlVMTBADKnEKD1dpdGhkcmF3T3V0Y29tZRIgChxXSVRIRFJBV19PVVRDT01FX1VOU1BFQ0lGSUVEEAASHgoaV0lUSERSQVdfT1VUQ09NRV9XSVRIRFJBV04QARIcChhXSVRIRFJBV19PVVRDT01FX1JFRlVTRUQQAipKCgtGaW5kUmVmdXNhbBIcChhGSU5EX1JFRlVTQUxfVU5TUEVDSUZJRUQQABIdChlGSU5EX1JFRlVTQUxfUkFURV9MSU1JVEVEEAEqtQEKD0RlbGl2ZXJ5T3V0Y29tZRIgChxERUxJVkVSWV9PVVRDT01FX1VOU1BFQ0lGSUVEEAASHgoaREVMSVZFUllfT1VUQ09NRV9ERUxJVkVSRUQQARIhCh1ERUxJVkVSWV9PVVRDT01FX05PVF9BVFRBQ0hFRBACEiAKHERFTElWRVJZX09VVENPTUVfVU5SRUFDSEFCTEUQAxIbChdERUxJVkVSWV9PVVRDT01FX05PX0FDSxAEKoUBCgxSb3V0ZUZhaWx1cmUSHQoZUk9VVEVfRkFJTFVSRV9VTlNQRUNJRklFRBAAEhkKFVJPVVRFX0ZBSUxVUkVfT0ZGTElORRABEhsKF1JPVVRFX0ZBSUxVUkVfVE9PX0xBUkdFEAISHgoaUk9VVEVfRkFJTFVSRV9SQVRFX0xJTUlURUQQAyqJAQoNQ2FuZGlkYXRlVHlwZRIeChpDQU5ESURBVEVfVFlQRV9VTlNQRUNJRklFRBAAEhcKE0NBTkRJREFURV9UWVBFX0hPU1QQARIjCh9DQU5ESURBVEVfVFlQRV9TRVJWRVJfUkVGTEVYSVZFEAISGgoWQ0FORElEQVRFX1RZUEVfUkVMQVlFRBADKm8KEVRyYW5zcG9ydFByb3RvY29sEiIKHlRSQU5TUE9SVF9QUk9UT0NPTF9VTlNQRUNJRklFRBAAEhoKFlRSQU5TUE9SVF9QUk9UT0NPTF9VRFAQARIaChZUUkFOU1BPUlRfUFJPVE9DT0xfVENQEAIq7wEKB05hdFR5cGUSGAoUTkFUX1RZUEVfVU5TUEVDSUZJRUQQABIRCg1OQVRfVFlQRV9PUEVOEAESFwoTTkFUX1RZUEVfRklSRVdBTExFRBACEhYKEk5BVF9UWVBFX0ZVTExfQ09ORRADEh8KG05BVF9UWVBFX0FERFJFU1NfUkVTVFJJQ1RFRBAEEhwKGE5BVF9UWVBFX1BPUlRfUkVTVFJJQ1RFRBAFEhYKEk5BVF9UWVBFX1NZTU1FVFJJQxAGEhgKFE5BVF9UWVBFX1VEUF9CTE9DS0VEEAcSFQoRTkFUX1RZUEVfV0VCX09OTFkQCCqiAQoNUHJlc2VuY2VTdGF0ZRIeChpQUkVTRU5DRV9TVEFURV9VTlNQRUNJRklFRBAAEhkKFVBSRVNFTkNFX1NUQVRFX09OTElORRABEhcKE1BSRVNFTkNFX1NUQVRFX0FXQVkQAhIhCh1QUkVTRU5DRV9TVEFURV9ET19OT1RfRElTVFVSQhADEhoKFlBSRVNFTkNFX1NUQVRFX09GRkxJTkUQBCrMBAoOQ2FsbFNpZ25hbEtpbmQSIAocQ0FMTF9TSUdOQUxfS0lORF9VTlNQRUNJRklFRBAAEhsKF0NBTExfU0lHTkFMX0tJTkRfSU5WSVRFEAESHAoYQ0FMTF9TSUdOQUxfS0lORF9SSU5HSU5HEAISGwoXQ0FMTF9TSUdOQUxfS0lORF9BQ0NFUFQQAxIcChhDQUxMX1NJR05BTF9LSU5EX0RFQ0xJTkUQBBIZChVDQUxMX1NJR05BTF9LSU5EX0JVU1kQBRIbChdDQUxMX1NJR05BTF9LSU5EX0NBTkNFTBAGEhgKFENBTExfU0lHTkFMX0tJTkRfQllFEAcSGQoVQ0FMTF9TSUdOQUxfS0lORF9IT0xEEAgSGwoXQ0FMTF9TSUdOQUxfS0lORF9SRVNVTUUQCRIgChxDQUxMX1NJR05BTF9LSU5EX0NPTkZfSU5WSVRFEAoSHgoaQ0FMTF9TSUdOQUxfS0lORF9DT05GX0pPSU4QCxIgChxDQUxMX1NJR05BTF9LSU5EX0NPTkZfUk9TVEVSEAwSHQoZQ0FMTF9TSUdOQUxfS0lORF9DT05GX0xFRxANEh8KG0NBTExfU0lHTkFMX0tJTkRfQ09ORl9MRUFWRRAOEh4KGkNBTExfU0lHTkFMX0tJTkRfQ09ORl9MT1NUEA8SHAoYQ0FMTF9TSUdOQUxfS0lORF9SRVNUQVJUEBASGQoVQ0FMTF9TSUdOQUxfS0lORF9NVVRFEBESGwoXQ0FMTF9TSUdOQUxfS0lORF9VTk1VVEUQEirDAQoQSWNlQ2FuZGlkYXRlVHlwZRIiCh5JQ0VfQ0FORElEQVRFX1RZUEVfVU5TUEVDSUZJRUQQABIbChdJQ0VfQ0FORElEQVRFX1RZUEVfSE9TVBABEicKI0lDRV9DQU5ESURBVEVfVFlQRV9TRVJWRVJfUkVGTEVYSVZFEAISJQohSUNFX0NBTkRJREFURV9UWVBFX1BFRVJfUkVGTEVYSVZFEAMSHgoaSUNFX0NBTkRJREFURV9UWVBFX1JFTEFZRUQQBGIGcHJvdG8z");
/**
 * Describes the message parley.v1.CertificateBody.
 * Use `create(CertificateBodySchema)` to create a new message.
 */
export const CertificateBodySchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 0);
/**
 * Describes the message parley.v1.Certificate.
 * Use `create(CertificateSchema)` to create a new message.
 */
export const CertificateSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 1);
/**
 * Describes the message parley.v1.HandshakePayload.
 * Use `create(HandshakePayloadSchema)` to create a new message.
 */
export const HandshakePayloadSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 2);
/**
 * Describes the message parley.v1.Ping.
 * Use `create(PingSchema)` to create a new message.
 */
export const PingSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 3);
/**
 * Describes the message parley.v1.Pong.
 * Use `create(PongSchema)` to create a new message.
 */
export const PongSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 4);
/**
 * Describes the message parley.v1.Close.
 * Use `create(CloseSchema)` to create a new message.
 */
export const CloseSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 5);
/**
 * Describes the message parley.v1.Data.
 * Use `create(DataSchema)` to create a new message.
 */
export const DataSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 6);
/**
 * Describes the message parley.v1.AttachRequest.
 * Use `create(AttachRequestSchema)` to create a new message.
 */
export const AttachRequestSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 7);
/**
 * Describes the message parley.v1.AttachAccepted.
 * Use `create(AttachAcceptedSchema)` to create a new message.
 */
export const AttachAcceptedSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 8);
/**
 * Describes the message parley.v1.AttachRefused.
 * Use `create(AttachRefusedSchema)` to create a new message.
 */
export const AttachRefusedSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 9);
/**
 * Describes the message parley.v1.FindNode.
 * Use `create(FindNodeSchema)` to create a new message.
 */
export const FindNodeSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 10);
/**
 * Describes the message parley.v1.FoundNodes.
 * Use `create(FoundNodesSchema)` to create a new message.
 */
export const FoundNodesSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 11);
/**
 * Describes the message parley.v1.StorePresence.
 * Use `create(StorePresenceSchema)` to create a new message.
 */
export const StorePresenceSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 12);
/**
 * Describes the message parley.v1.Stored.
 * Use `create(StoredSchema)` to create a new message.
 */
export const StoredSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 13);
/**
 * Describes the message parley.v1.WithdrawPresence.
 * Use `create(WithdrawPresenceSchema)` to create a new message.
 */
export const WithdrawPresenceSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 14);
/**
 * Describes the message parley.v1.Withdrawn.
 * Use `create(WithdrawnSchema)` to create a new message.
 */
export const WithdrawnSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 15);
/**
 * Describes the message parley.v1.FindPresence.
 * Use `create(FindPresenceSchema)` to create a new message.
 */
export const FindPresenceSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 16);
/**
 * Describes the message parley.v1.FoundPresence.
 * Use `create(FoundPresenceSchema)` to create a new message.
 */
export const FoundPresenceSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 17);
/**
 * Describes the message parley.v1.RouteRequest.
 * Use `create(RouteRequestSchema)` to create a new message.
 */
export const RouteRequestSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 18);
/**
 * Describes the message parley.v1.DeviceDelivery.
 * Use `create(DeviceDeliverySchema)` to create a new message.
 */
export const DeviceDeliverySchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 19);
/**
 * Describes the message parley.v1.RouteResult.
 * Use `create(RouteResultSchema)` to create a new message.
 */
export const RouteResultSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 20);
/**
 * Describes the message parley.v1.RouteForward.
 * Use `create(RouteForwardSchema)` to create a new message.
 */
export const RouteForwardSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 21);
/**
 * Describes the message parley.v1.RouteForwarded.
 * Use `create(RouteForwardedSchema)` to create a new message.
 */
export const RouteForwardedSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 22);
/**
 * Describes the message parley.v1.Delivery.
 * Use `create(DeliverySchema)` to create a new message.
 */
export const DeliverySchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 23);
/**
 * Describes the message parley.v1.DeliveryAck.
 * Use `create(DeliveryAckSchema)` to create a new message.
 */
export const DeliveryAckSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 24);
/**
 * Describes the message parley.v1.ReachabilityCheck.
 * Use `create(ReachabilityCheckSchema)` to create a new message.
 */
export const ReachabilityCheckSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 25);
/**
 * Describes the message parley.v1.ReachabilityResult.
 * Use `create(ReachabilityResultSchema)` to create a new message.
 */
export const ReachabilityResultSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 26);
/**
 * Describes the message parley.v1.ReachabilityBody.
 * Use `create(ReachabilityBodySchema)` to create a new message.
 */
export const ReachabilityBodySchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 27);
/**
 * Describes the message parley.v1.ReachabilityAttestation.
 * Use `create(ReachabilityAttestationSchema)` to create a new message.
 */
export const ReachabilityAttestationSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 28);
/**
 * Describes the message parley.v1.Envelope.
 * Use `create(EnvelopeSchema)` to create a new message.
 */
export const EnvelopeSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 29);
/**
 * Describes the message parley.v1.TurnCredentialsRequest.
 * Use `create(TurnCredentialsRequestSchema)` to create a new message.
 */
export const TurnCredentialsRequestSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 30);
/**
 * Describes the message parley.v1.TurnCredentialsAnswer.
 * Use `create(TurnCredentialsAnswerSchema)` to create a new message.
 */
export const TurnCredentialsAnswerSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 31);
/**
 * Describes the message parley.v1.Candidate.
 * Use `create(CandidateSchema)` to create a new message.
 */
export const CandidateSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 32);
/**
 * Describes the message parley.v1.SupernodeRef.
 * Use `create(SupernodeRefSchema)` to create a new message.
 */
export const SupernodeRefSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 33);
/**
 * Describes the message parley.v1.PresenceBody.
 * Use `create(PresenceBodySchema)` to create a new message.
 */
export const PresenceBodySchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 34);
/**
 * Describes the message parley.v1.PresenceRecord.
 * Use `create(PresenceRecordSchema)` to create a new message.
 */
export const PresenceRecordSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 35);
/**
 * Describes the message parley.v1.E2eFrame.
 * Use `create(E2eFrameSchema)` to create a new message.
 */
export const E2eFrameSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 36);
/**
 * Describes the message parley.v1.E2eHandshake.
 * Use `create(E2eHandshakeSchema)` to create a new message.
 */
export const E2eHandshakeSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 37);
/**
 * Describes the message parley.v1.E2eHello.
 * Use `create(E2eHelloSchema)` to create a new message.
 */
export const E2eHelloSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 38);
/**
 * Describes the message parley.v1.E2eSealed.
 * Use `create(E2eSealedSchema)` to create a new message.
 */
export const E2eSealedSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 39);
/**
 * Describes the message parley.v1.E2eStreamFrame.
 * Use `create(E2eStreamFrameSchema)` to create a new message.
 */
export const E2eStreamFrameSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 40);
/**
 * Describes the message parley.v1.E2eStreamItem.
 * Use `create(E2eStreamItemSchema)` to create a new message.
 */
export const E2eStreamItemSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 41);
/**
 * Describes the message parley.v1.ChatMessage.
 * Use `create(ChatMessageSchema)` to create a new message.
 */
export const ChatMessageSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 42);
/**
 * Describes the message parley.v1.PresenceUpdate.
 * Use `create(PresenceUpdateSchema)` to create a new message.
 */
export const PresenceUpdateSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 43);
/**
 * Describes the message parley.v1.Typing.
 * Use `create(TypingSchema)` to create a new message.
 */
export const TypingSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 44);
/**
 * Describes the message parley.v1.ReadReceipt.
 * Use `create(ReadReceiptSchema)` to create a new message.
 */
export const ReadReceiptSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 45);
/**
 * Describes the message parley.v1.ChatPayload.
 * Use `create(ChatPayloadSchema)` to create a new message.
 */
export const ChatPayloadSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 46);
/**
 * Describes the message parley.v1.ConferenceMember.
 * Use `create(ConferenceMemberSchema)` to create a new message.
 */
export const ConferenceMemberSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 47);
/**
 * Describes the message parley.v1.ConferenceRoster.
 * Use `create(ConferenceRosterSchema)` to create a new message.
 */
export const ConferenceRosterSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 48);
/**
 * Describes the message parley.v1.CallSignal.
 * Use `create(CallSignalSchema)` to create a new message.
 */
export const CallSignalSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 49);
/**
 * Describes the message parley.v1.ConnectivityOffer.
 * Use `create(ConnectivityOfferSchema)` to create a new message.
 */
export const ConnectivityOfferSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 50);
/**
 * Describes the message parley.v1.IceCandidate.
 * Use `create(IceCandidateSchema)` to create a new message.
 */
export const IceCandidateSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 51);
/**
 * Describes the message parley.v1.OfflineEnvelope.
 * Use `create(OfflineEnvelopeSchema)` to create a new message.
 */
export const OfflineEnvelopeSchema = /*@__PURE__*/ messageDesc(file_parley_v1_wire, 52);
/**
 * @generated from enum parley.v1.Role
 */
export var Role;
(function (Role) {
    /**
     * @generated from enum value: ROLE_UNSPECIFIED = 0;
     */
    Role[Role["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * a user's device (client)
     *
     * @generated from enum value: ROLE_DEVICE = 1;
     */
    Role[Role["DEVICE"] = 1] = "DEVICE";
    /**
     * a supernode's node identity
     *
     * @generated from enum value: ROLE_SUPERNODE = 2;
     */
    Role[Role["SUPERNODE"] = 2] = "SUPERNODE";
    /**
     * @generated from enum value: ROLE_LOGIN_SERVER = 3;
     */
    Role[Role["LOGIN_SERVER"] = 3] = "LOGIN_SERVER";
})(Role || (Role = {}));
/**
 * Describes the enum parley.v1.Role.
 */
export const RoleSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 0);
/**
 * @generated from enum parley.v1.RejectReason
 */
export var RejectReason;
(function (RejectReason) {
    /**
     * @generated from enum value: REJECT_REASON_UNSPECIFIED = 0;
     */
    RejectReason[RejectReason["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: REJECT_REASON_UNSUPPORTED_VERSION = 1;
     */
    RejectReason[RejectReason["UNSUPPORTED_VERSION"] = 1] = "UNSUPPORTED_VERSION";
    /**
     * @generated from enum value: REJECT_REASON_WRONG_NETWORK = 2;
     */
    RejectReason[RejectReason["WRONG_NETWORK"] = 2] = "WRONG_NETWORK";
    /**
     * @generated from enum value: REJECT_REASON_BAD_CERTIFICATE = 3;
     */
    RejectReason[RejectReason["BAD_CERTIFICATE"] = 3] = "BAD_CERTIFICATE";
    /**
     * @generated from enum value: REJECT_REASON_BUSY = 4;
     */
    RejectReason[RejectReason["BUSY"] = 4] = "BUSY";
})(RejectReason || (RejectReason = {}));
/**
 * Describes the enum parley.v1.RejectReason.
 */
export const RejectReasonSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 1);
/**
 * @generated from enum parley.v1.CloseReason
 */
export var CloseReason;
(function (CloseReason) {
    /**
     * @generated from enum value: CLOSE_REASON_UNSPECIFIED = 0;
     */
    CloseReason[CloseReason["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: CLOSE_REASON_NORMAL = 1;
     */
    CloseReason[CloseReason["NORMAL"] = 1] = "NORMAL";
    /**
     * @generated from enum value: CLOSE_REASON_PROTOCOL_ERROR = 2;
     */
    CloseReason[CloseReason["PROTOCOL_ERROR"] = 2] = "PROTOCOL_ERROR";
    /**
     * @generated from enum value: CLOSE_REASON_BAD_CERTIFICATE = 3;
     */
    CloseReason[CloseReason["BAD_CERTIFICATE"] = 3] = "BAD_CERTIFICATE";
    /**
     * @generated from enum value: CLOSE_REASON_SHUTDOWN = 4;
     */
    CloseReason[CloseReason["SHUTDOWN"] = 4] = "SHUTDOWN";
    /**
     * @generated from enum value: CLOSE_REASON_IDLE = 5;
     */
    CloseReason[CloseReason["IDLE"] = 5] = "IDLE";
})(CloseReason || (CloseReason = {}));
/**
 * Describes the enum parley.v1.CloseReason.
 */
export const CloseReasonSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 2);
/**
 * @generated from enum parley.v1.AttachRefusal
 */
export var AttachRefusal;
(function (AttachRefusal) {
    /**
     * @generated from enum value: ATTACH_REFUSAL_UNSPECIFIED = 0;
     */
    AttachRefusal[AttachRefusal["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * the supernode serves as many clients as it may
     *
     * @generated from enum value: ATTACH_REFUSAL_FULL = 1;
     */
    AttachRefusal[AttachRefusal["FULL"] = 1] = "FULL";
    /**
     * the record did not verify (detail says why)
     *
     * @generated from enum value: ATTACH_REFUSAL_BAD_PRESENCE = 2;
     */
    AttachRefusal[AttachRefusal["BAD_PRESENCE"] = 2] = "BAD_PRESENCE";
    /**
     * @generated from enum value: ATTACH_REFUSAL_NOT_A_DEVICE = 3;
     */
    AttachRefusal[AttachRefusal["NOT_A_DEVICE"] = 3] = "NOT_A_DEVICE";
    /**
     * this user has as many devices attached here as allowed
     *
     * @generated from enum value: ATTACH_REFUSAL_TOO_MANY_DEVICES = 4;
     */
    AttachRefusal[AttachRefusal["TOO_MANY_DEVICES"] = 4] = "TOO_MANY_DEVICES";
})(AttachRefusal || (AttachRefusal = {}));
/**
 * Describes the enum parley.v1.AttachRefusal.
 */
export const AttachRefusalSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 3);
/**
 * @generated from enum parley.v1.StoreOutcome
 */
export var StoreOutcome;
(function (StoreOutcome) {
    /**
     * @generated from enum value: STORE_OUTCOME_UNSPECIFIED = 0;
     */
    StoreOutcome[StoreOutcome["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: STORE_OUTCOME_STORED = 1;
     */
    StoreOutcome[StoreOutcome["STORED"] = 1] = "STORED";
    /**
     * the record did not verify (detail says why)
     *
     * @generated from enum value: STORE_OUTCOME_REJECTED = 2;
     */
    StoreOutcome[StoreOutcome["REJECTED"] = 2] = "REJECTED";
    /**
     * @generated from enum value: STORE_OUTCOME_FULL = 3;
     */
    StoreOutcome[StoreOutcome["FULL"] = 3] = "FULL";
})(StoreOutcome || (StoreOutcome = {}));
/**
 * Describes the enum parley.v1.StoreOutcome.
 */
export const StoreOutcomeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 4);
/**
 * @generated from enum parley.v1.WithdrawOutcome
 */
export var WithdrawOutcome;
(function (WithdrawOutcome) {
    /**
     * @generated from enum value: WITHDRAW_OUTCOME_UNSPECIFIED = 0;
     */
    WithdrawOutcome[WithdrawOutcome["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: WITHDRAW_OUTCOME_WITHDRAWN = 1;
     */
    WithdrawOutcome[WithdrawOutcome["WITHDRAWN"] = 1] = "WITHDRAWN";
    /**
     * the record did not verify, or does not name the sender (detail says why)
     *
     * @generated from enum value: WITHDRAW_OUTCOME_REFUSED = 2;
     */
    WithdrawOutcome[WithdrawOutcome["REFUSED"] = 2] = "REFUSED";
})(WithdrawOutcome || (WithdrawOutcome = {}));
/**
 * Describes the enum parley.v1.WithdrawOutcome.
 */
export const WithdrawOutcomeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 5);
/**
 * @generated from enum parley.v1.FindRefusal
 */
export var FindRefusal;
(function (FindRefusal) {
    /**
     * @generated from enum value: FIND_REFUSAL_UNSPECIFIED = 0;
     */
    FindRefusal[FindRefusal["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * too many lookups from this client: slow down
     *
     * @generated from enum value: FIND_REFUSAL_RATE_LIMITED = 1;
     */
    FindRefusal[FindRefusal["RATE_LIMITED"] = 1] = "RATE_LIMITED";
})(FindRefusal || (FindRefusal = {}));
/**
 * Describes the enum parley.v1.FindRefusal.
 */
export const FindRefusalSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 6);
/**
 * @generated from enum parley.v1.DeliveryOutcome
 */
export var DeliveryOutcome;
(function (DeliveryOutcome) {
    /**
     * @generated from enum value: DELIVERY_OUTCOME_UNSPECIFIED = 0;
     */
    DeliveryOutcome[DeliveryOutcome["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * the device acknowledged it
     *
     * @generated from enum value: DELIVERY_OUTCOME_DELIVERED = 1;
     */
    DeliveryOutcome[DeliveryOutcome["DELIVERED"] = 1] = "DELIVERED";
    /**
     * the device's supernode no longer serves it
     *
     * @generated from enum value: DELIVERY_OUTCOME_NOT_ATTACHED = 2;
     */
    DeliveryOutcome[DeliveryOutcome["NOT_ATTACHED"] = 2] = "NOT_ATTACHED";
    /**
     * the device's supernode did not answer
     *
     * @generated from enum value: DELIVERY_OUTCOME_UNREACHABLE = 3;
     */
    DeliveryOutcome[DeliveryOutcome["UNREACHABLE"] = 3] = "UNREACHABLE";
    /**
     * the device did not acknowledge in time
     *
     * @generated from enum value: DELIVERY_OUTCOME_NO_ACK = 4;
     */
    DeliveryOutcome[DeliveryOutcome["NO_ACK"] = 4] = "NO_ACK";
})(DeliveryOutcome || (DeliveryOutcome = {}));
/**
 * Describes the enum parley.v1.DeliveryOutcome.
 */
export const DeliveryOutcomeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 7);
/**
 * @generated from enum parley.v1.RouteFailure
 */
export var RouteFailure;
(function (RouteFailure) {
    /**
     * @generated from enum value: ROUTE_FAILURE_UNSPECIFIED = 0;
     */
    RouteFailure[RouteFailure["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * the overlay has no record of the user
     *
     * @generated from enum value: ROUTE_FAILURE_OFFLINE = 1;
     */
    RouteFailure[RouteFailure["OFFLINE"] = 1] = "OFFLINE";
    /**
     * @generated from enum value: ROUTE_FAILURE_TOO_LARGE = 2;
     */
    RouteFailure[RouteFailure["TOO_LARGE"] = 2] = "TOO_LARGE";
    /**
     * @generated from enum value: ROUTE_FAILURE_RATE_LIMITED = 3;
     */
    RouteFailure[RouteFailure["RATE_LIMITED"] = 3] = "RATE_LIMITED";
})(RouteFailure || (RouteFailure = {}));
/**
 * Describes the enum parley.v1.RouteFailure.
 */
export const RouteFailureSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 8);
/**
 * @generated from enum parley.v1.CandidateType
 */
export var CandidateType;
(function (CandidateType) {
    /**
     * @generated from enum value: CANDIDATE_TYPE_UNSPECIFIED = 0;
     */
    CandidateType[CandidateType["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: CANDIDATE_TYPE_HOST = 1;
     */
    CandidateType[CandidateType["HOST"] = 1] = "HOST";
    /**
     * @generated from enum value: CANDIDATE_TYPE_SERVER_REFLEXIVE = 2;
     */
    CandidateType[CandidateType["SERVER_REFLEXIVE"] = 2] = "SERVER_REFLEXIVE";
    /**
     * @generated from enum value: CANDIDATE_TYPE_RELAYED = 3;
     */
    CandidateType[CandidateType["RELAYED"] = 3] = "RELAYED";
})(CandidateType || (CandidateType = {}));
/**
 * Describes the enum parley.v1.CandidateType.
 */
export const CandidateTypeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 9);
/**
 * @generated from enum parley.v1.TransportProtocol
 */
export var TransportProtocol;
(function (TransportProtocol) {
    /**
     * @generated from enum value: TRANSPORT_PROTOCOL_UNSPECIFIED = 0;
     */
    TransportProtocol[TransportProtocol["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: TRANSPORT_PROTOCOL_UDP = 1;
     */
    TransportProtocol[TransportProtocol["UDP"] = 1] = "UDP";
    /**
     * @generated from enum value: TRANSPORT_PROTOCOL_TCP = 2;
     */
    TransportProtocol[TransportProtocol["TCP"] = 2] = "TCP";
})(TransportProtocol || (TransportProtocol = {}));
/**
 * Describes the enum parley.v1.TransportProtocol.
 */
export const TransportProtocolSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 10);
/**
 * What a device found it is behind (RFC 5780 tests against its supernode's STUN server), in
 * the classic names; peers use it to plan a connection.
 *
 * @generated from enum parley.v1.NatType
 */
export var NatType;
(function (NatType) {
    /**
     * not tested (yet)
     *
     * @generated from enum value: NAT_TYPE_UNSPECIFIED = 0;
     */
    NatType[NatType["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: NAT_TYPE_OPEN = 1;
     */
    NatType[NatType["OPEN"] = 1] = "OPEN";
    /**
     * a public address behind a stateful filter
     *
     * @generated from enum value: NAT_TYPE_FIREWALLED = 2;
     */
    NatType[NatType["FIREWALLED"] = 2] = "FIREWALLED";
    /**
     * @generated from enum value: NAT_TYPE_FULL_CONE = 3;
     */
    NatType[NatType["FULL_CONE"] = 3] = "FULL_CONE";
    /**
     * @generated from enum value: NAT_TYPE_ADDRESS_RESTRICTED = 4;
     */
    NatType[NatType["ADDRESS_RESTRICTED"] = 4] = "ADDRESS_RESTRICTED";
    /**
     * @generated from enum value: NAT_TYPE_PORT_RESTRICTED = 5;
     */
    NatType[NatType["PORT_RESTRICTED"] = 5] = "PORT_RESTRICTED";
    /**
     * @generated from enum value: NAT_TYPE_SYMMETRIC = 6;
     */
    NatType[NatType["SYMMETRIC"] = 6] = "SYMMETRIC";
    /**
     * @generated from enum value: NAT_TYPE_UDP_BLOCKED = 7;
     */
    NatType[NatType["UDP_BLOCKED"] = 7] = "UDP_BLOCKED";
    /**
     * no UDP, and TCP only to web ports (80/443)
     *
     * @generated from enum value: NAT_TYPE_WEB_ONLY = 8;
     */
    NatType[NatType["WEB_ONLY"] = 8] = "WEB_ONLY";
})(NatType || (NatType = {}));
/**
 * Describes the enum parley.v1.NatType.
 */
export const NatTypeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 11);
/**
 * @generated from enum parley.v1.PresenceState
 */
export var PresenceState;
(function (PresenceState) {
    /**
     * @generated from enum value: PRESENCE_STATE_UNSPECIFIED = 0;
     */
    PresenceState[PresenceState["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: PRESENCE_STATE_ONLINE = 1;
     */
    PresenceState[PresenceState["ONLINE"] = 1] = "ONLINE";
    /**
     * @generated from enum value: PRESENCE_STATE_AWAY = 2;
     */
    PresenceState[PresenceState["AWAY"] = 2] = "AWAY";
    /**
     * @generated from enum value: PRESENCE_STATE_DO_NOT_DISTURB = 3;
     */
    PresenceState[PresenceState["DO_NOT_DISTURB"] = 3] = "DO_NOT_DISTURB";
    /**
     * what buddies see of a user who is invisible, or leaving
     *
     * @generated from enum value: PRESENCE_STATE_OFFLINE = 4;
     */
    PresenceState[PresenceState["OFFLINE"] = 4] = "OFFLINE";
})(PresenceState || (PresenceState = {}));
/**
 * Describes the enum parley.v1.PresenceState.
 */
export const PresenceStateSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 12);
/**
 * Call signalling, end to end between devices (never seen by a supernode). The caller sends
 * INVITE to every online device of the callee; each rings (RINGING) or says why not; the first
 * to ACCEPT wins and the caller CANCELs the others. Each side picks a random SRTP master key and
 * salt for what it sends and gives it in INVITE / ACCEPT: only the two devices know them.
 *
 * @generated from enum parley.v1.CallSignalKind
 */
export var CallSignalKind;
(function (CallSignalKind) {
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_UNSPECIFIED = 0;
     */
    CallSignalKind[CallSignalKind["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_INVITE = 1;
     */
    CallSignalKind[CallSignalKind["INVITE"] = 1] = "INVITE";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_RINGING = 2;
     */
    CallSignalKind[CallSignalKind["RINGING"] = 2] = "RINGING";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_ACCEPT = 3;
     */
    CallSignalKind[CallSignalKind["ACCEPT"] = 3] = "ACCEPT";
    /**
     * reason: "declined", "refused" (not taking calls from this user)
     *
     * @generated from enum value: CALL_SIGNAL_KIND_DECLINE = 4;
     */
    CallSignalKind[CallSignalKind["DECLINE"] = 4] = "DECLINE";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_BUSY = 5;
     */
    CallSignalKind[CallSignalKind["BUSY"] = 5] = "BUSY";
    /**
     * reason: "cancelled", "answered elsewhere", "no answer"
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CANCEL = 6;
     */
    CallSignalKind[CallSignalKind["CANCEL"] = 6] = "CANCEL";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_BYE = 7;
     */
    CallSignalKind[CallSignalKind["BYE"] = 7] = "BYE";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_HOLD = 8;
     */
    CallSignalKind[CallSignalKind["HOLD"] = 8] = "HOLD";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_RESUME = 9;
     */
    CallSignalKind[CallSignalKind["RESUME"] = 9] = "RESUME";
    /**
     * Conferences (docs/conferences.md); call_id is the conference's id.
     *
     * host -> every device of the invitee: roster, frame_ms, codecs (from_call: a 1:1 call it turns into this)
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_INVITE = 10;
     */
    CallSignalKind[CallSignalKind["CONF_INVITE"] = 10] = "CONF_INVITE";
    /**
     * invitee -> host: member (its own facts for the mixer election)
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_JOIN = 11;
     */
    CallSignalKind[CallSignalKind["CONF_JOIN"] = 11] = "CONF_JOIN";
    /**
     * host -> members: the roster, members[0] the host
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_ROSTER = 12;
     */
    CallSignalKind[CallSignalKind["CONF_ROSTER"] = 12] = "CONF_ROSTER";
    /**
     * participant <-> mixer: srtp_master for the sender's direction of their leg
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_LEG = 13;
     */
    CallSignalKind[CallSignalKind["CONF_LEG"] = 13] = "CONF_LEG";
    /**
     * member -> members: it leaves; host -> member: reason "kicked"
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_LEAVE = 14;
     */
    CallSignalKind[CallSignalKind["CONF_LEAVE"] = 14] = "CONF_LEAVE";
    /**
     * member -> host: member (the one whose media stopped; reason "degraded": arrives, but badly)
     *
     * @generated from enum value: CALL_SIGNAL_KIND_CONF_LOST = 15;
     */
    CallSignalKind[CallSignalKind["CONF_LOST"] = 15] = "CONF_LOST";
    /**
     * A call's path went silent at the callee: it asks the caller to restart ICE (a new path,
     * new candidates and relay; the SRTP keys stay). The caller answers with a connectivity offer.
     *
     * @generated from enum value: CALL_SIGNAL_KIND_RESTART = 16;
     */
    CallSignalKind[CallSignalKind["RESTART"] = 16] = "RESTART";
    /**
     * The sender's microphone is off (MUTE) or on again (UNMUTE): the other side shows it. Media
     * goes on (silent frames), so nothing else changes; a device that does not know these ignores them.
     *
     * @generated from enum value: CALL_SIGNAL_KIND_MUTE = 17;
     */
    CallSignalKind[CallSignalKind["MUTE"] = 17] = "MUTE";
    /**
     * @generated from enum value: CALL_SIGNAL_KIND_UNMUTE = 18;
     */
    CallSignalKind[CallSignalKind["UNMUTE"] = 18] = "UNMUTE";
})(CallSignalKind || (CallSignalKind = {}));
/**
 * Describes the enum parley.v1.CallSignalKind.
 */
export const CallSignalKindSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 13);
/**
 * @generated from enum parley.v1.IceCandidateType
 */
export var IceCandidateType;
(function (IceCandidateType) {
    /**
     * @generated from enum value: ICE_CANDIDATE_TYPE_UNSPECIFIED = 0;
     */
    IceCandidateType[IceCandidateType["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    /**
     * @generated from enum value: ICE_CANDIDATE_TYPE_HOST = 1;
     */
    IceCandidateType[IceCandidateType["HOST"] = 1] = "HOST";
    /**
     * @generated from enum value: ICE_CANDIDATE_TYPE_SERVER_REFLEXIVE = 2;
     */
    IceCandidateType[IceCandidateType["SERVER_REFLEXIVE"] = 2] = "SERVER_REFLEXIVE";
    /**
     * @generated from enum value: ICE_CANDIDATE_TYPE_PEER_REFLEXIVE = 3;
     */
    IceCandidateType[IceCandidateType["PEER_REFLEXIVE"] = 3] = "PEER_REFLEXIVE";
    /**
     * @generated from enum value: ICE_CANDIDATE_TYPE_RELAYED = 4;
     */
    IceCandidateType[IceCandidateType["RELAYED"] = 4] = "RELAYED";
})(IceCandidateType || (IceCandidateType = {}));
/**
 * Describes the enum parley.v1.IceCandidateType.
 */
export const IceCandidateTypeSchema = /*@__PURE__*/ enumDesc(file_parley_v1_wire, 14);
//# sourceMappingURL=wire_pb.js.map