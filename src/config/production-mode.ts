/**
 * The server's processes run their libraries in production mode unless NODE_ENV says otherwise:
 * graphql-js reads NODE_ENV once, when it loads, and outside production every failed type check
 * (`isListType`, `isNonNullType`, … on each field of each answer) also compares class names to
 * detect two copies of graphql, about a tenth of the CPU of a large answer. Imported first by each
 * entry point, before anything that imports graphql.
 */
process.env.NODE_ENV ??= 'production';
