/** Schema pieces the area descriptions share: times, ids, counts, the error body. */
import * as z from "zod";
import { ERROR_STATUS } from "../../../errors";
import { DESTINATION_ID } from "../../../usecases/destination-input";
import { FAN_OUT } from "../../../usecases/dead-letters";

/** A time as the API answers it: ISO 8601 in UTC with milliseconds (`2026-11-24T10:00:00.000Z`). */
export const isoTime = z.iso.datetime().describe("ISO 8601, UTC.");
export const count = z.number().int().min(0);

export const destinationIdParam = z.string().regex(DESTINATION_ID).describe("A destination id (`dst_` and 20 hex digits).");
export const eventUuidParam = z.string().min(1).max(200).describe("Okta's event `uuid`.");
export const jobIdParam = z.string().regex(/^job_[1-9]\d{0,15}$/).describe("A job id (`job_…`).");
/** A dead letter's destination: a destination id, or `fan-out` for an event whose fan-out never happened. */
export const letterDestinationParam = z
  .string()
  .regex(new RegExp(`^(?:${DESTINATION_ID.source.slice(1, -1)}|${FAN_OUT})$`))
  .describe(`A destination id, or \`${FAN_OUT}\` for an event whose fan-out never happened.`);

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...Array<keyof typeof ERROR_STATUS>]),
      message: z.string().describe("What is wrong, naming the field or parameter (`url: must be https`); never a secret."),
    }),
  })
  .meta({ id: "Error", description: 'Every error of the admin API: `{"error":{"code":"…","message":"…"}}`; the status follows from the code.' });

/** The next page's cursor (pass it as `cursor`); null on the last page. */
export const nextCursor = z.string().nullable().describe("Pass as `cursor` for the next page; null: this was the last page.");
