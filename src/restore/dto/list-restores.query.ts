import { PageQuery } from '../../common/dto/page.query';

export class ListRestoresQuery extends PageQuery {}
