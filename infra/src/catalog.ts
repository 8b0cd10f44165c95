import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database';
import {
  GlueCatalogTable,
  type GlueCatalogTableConfig,
  type GlueCatalogTableStorageDescriptor,
} from '@cdktf/provider-aws/lib/glue-catalog-table';
import {
  ENV,
  glueType,
  goldTable,
  QUARANTINE_COLUMNS,
  QUARANTINE_PREFIX,
  QUARANTINE_TABLE,
  REJECTS_PREFIX,
  rejectsTable,
  silverTable,
} from '@lakehouse/contract';
import { Construct } from 'constructs';
import type { ColumnSchema, DatasetTables } from '../../app/src/catalog/table-schemas';
import type { PipelineFunction } from './pipeline-function';
import type { StorageConstruct } from './storage';
import type { StackVariables } from './variables';

export interface LakehouseCatalogProps {
  vars: StackVariables;
  storage: StorageConstruct;
  /** For the Glue ARNs: `arn:<partition>:glue:<region>:<account>:...`. */
  partition: string;
  region: string;
  accountId: string;
  /** The tables each dataset of transforms/ writes, described at synth (app/scripts/describe-tables.ts). */
  datasets: DatasetTables[];
}

const PARQUET: Omit<GlueCatalogTableStorageDescriptor, 'location' | 'columns'> = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serDeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};

/**
 * The Glue Data Catalog database `glue_database` and a table for everything
 * the pipeline writes, so Athena (and any Glue-aware engine) queries the zones
 * at once: `silver_<dataset>`, `rejects_<dataset>` and `gold_<dataset>_<table>`
 * for every dataset of transforms/ (columns from what the handler writes),
 * and `quarantine`. Gold tables use partition projection: no crawler, no
 * partition to register, ever.
 */
export class LakehouseCatalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly tables: GlueCatalogTable[] = [];
  private readonly glueArn: string;

  constructor(scope: Construct, id: string, props: LakehouseCatalogProps) {
    super(scope, id);
    const { vars, storage } = props;
    this.database = new GlueCatalogDatabase(this, 'database', {
      name: vars.glueDatabase.stringValue,
      description: 'The lakehouse: silver, rejects and gold tables of every dataset, and quarantine records',
    });
    this.glueArn = `arn:${props.partition}:glue:${props.region}:${props.accountId}`;
    const silver = storage.bucket('silver').bucket;
    const gold = storage.bucket('gold').bucket;
    const names = new Map<string, string>();

    type TableShape = Omit<GlueCatalogTableConfig, 'name' | 'databaseName' | 'description' | 'tableType'>;
    const table = (name: string, description: string, shape: TableShape) => {
      const clash = names.get(name);
      if (clash) throw new Error(`two tables map to the catalog name ${name}: ${clash}, and ${description}`);
      names.set(name, description);
      const config = { name, databaseName: this.database.name, description, tableType: 'EXTERNAL_TABLE', ...shape };
      this.tables.push(new GlueCatalogTable(this, name, config));
    };

    for (const dataset of props.datasets) {
      const name = dataset.dataset;
      table(silverTable(name), `Silver rows of dataset ${name}`, {
        parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
        storageDescriptor: { ...PARQUET, location: `s3://${silver}/${name}/`, columns: columns(dataset.silver) },
      });
      if (dataset.rejects.length > 0) {
        table(rejectsTable(name), `Rejected rows of dataset ${name}, with the rules they broke`, {
          parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
          storageDescriptor: {
            ...PARQUET,
            location: `s3://${silver}/${REJECTS_PREFIX}/${name}/`,
            columns: columns(dataset.rejects),
          },
        });
      }
      for (const goldSchema of dataset.gold) {
        const { partition } = goldSchema;
        table(goldTable(name, goldSchema.name), `Gold table ${goldSchema.name} of dataset ${name}`, {
          parameters: {
            classification: 'parquet',
            EXTERNAL: 'TRUE',
            ...partitionProjection(partition),
          },
          partitionKeys: [{ name: partition.name, type: glueType(partition.type) }],
          storageDescriptor: {
            ...PARQUET,
            location: `s3://${gold}/${name}/${goldSchema.name}/`,
            columns: columns(goldSchema.columns),
          },
        });
      }
    }

    table(QUARANTINE_TABLE, 'Quarantine records: files the pipeline could not process, and why', {
      parameters: { classification: 'json', EXTERNAL: 'TRUE' },
      storageDescriptor: {
        location: `s3://${silver}/${QUARANTINE_PREFIX}/`,
        inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        serDeInfo: {
          serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
          parameters: Object.fromEntries(
            QUARANTINE_COLUMNS.filter((c) => c.column !== c.field).map((c) => [`mapping.${c.column}`, c.field]),
          ),
        },
        columns: QUARANTINE_COLUMNS.map((c) => ({ name: c.column, type: 'string' })),
      },
    });
  }

  /**
   * The ingestion function keeps the tables of datasets without a transforms
   * folder (it creates `silver_<dataset>` on a dataset's first file and adds
   * new columns): GLUE_DATABASE in its environment, and read, create and
   * update of tables in this database only (Glue checks the catalog, the
   * database and the table).
   */
  bindTableMaintainer(fn: PipelineFunction): void {
    fn.addEnvironment(ENV.glueDatabase, this.database.name);
    fn.grant({
      sid: 'MaintainGenericDatasetTables',
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
      resources: [
        `${this.glueArn}:catalog`,
        `${this.glueArn}:database/${this.database.name}`,
        `${this.glueArn}:table/${this.database.name}/*`,
      ],
    });
  }
}

/** Catalog columns: names lowercased (Glue's rule), types mapped from DuckDB's. */
function columns(schema: ColumnSchema[]): Array<{ name: string; type: string }> {
  return schema.map((column) => ({ name: column.name.toLowerCase(), type: glueType(column.type) }));
}

/**
 * Partition projection of a gold table: Athena computes the partitions from
 * the key layout (`<column>=<value>/`) instead of a catalog of partitions. A
 * date partition projects every day from 1970 to today; any other type is
 * injected (queries name the partition value, e.g. `where region = 'eu'`).
 */
export function partitionProjection(partition: ColumnSchema): Record<string, string> {
  const prefix = `projection.${partition.name.toLowerCase()}`;
  if (glueType(partition.type) === 'date') {
    return {
      'projection.enabled': 'true',
      [`${prefix}.type`]: 'date',
      [`${prefix}.format`]: 'yyyy-MM-dd',
      [`${prefix}.range`]: '1970-01-01,NOW',
      [`${prefix}.interval`]: '1',
      [`${prefix}.interval.unit`]: 'DAYS',
    };
  }
  return { 'projection.enabled': 'true', [`${prefix}.type`]: 'injected' };
}
