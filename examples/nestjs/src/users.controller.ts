import { Body, Controller, Get, NotFoundException, Param, ParseIntPipe, Put } from '@nestjs/common'
import { PrismaService } from './prisma.service'

@Controller('users')
export class UsersController {
  constructor(private readonly prisma: PrismaService) {}

  /** Cached for a minute; the PUT below removes it from both tiers on every instance. */
  @Get(':id')
  async findOne(@Param('id', ParseIntPipe) id: number) {
    const user = await this.prisma.client.user.findUnique({ where: { id }, cache: { ttl: 60 } })
    if (!user) throw new NotFoundException(`no user ${id}`)
    return user
  }

  @Put(':id')
  update(@Param('id', ParseIntPipe) id: number, @Body() body: { name: string }) {
    return this.prisma.client.user.update({ where: { id }, data: { name: body.name } })
  }
}
