-- Continuous filter with enrichment from reference data: trades over a company's price limit.
CREATE OR REPLACE STREAM "ALERTS" ("ticker" VARCHAR(8), "company" VARCHAR(64), "price" DOUBLE, "over_by" DOUBLE);
CREATE OR REPLACE PUMP "ALERT_PUMP" AS INSERT INTO "ALERTS"
  SELECT STREAM s."ticker", c."company", s."price", s."price" - c."price_limit"
  FROM "SOURCE_SQL_STREAM_001" AS s
  JOIN "COMPANIES" AS c ON s."ticker" = c."ticker"
  WHERE s."price" > c."price_limit";
